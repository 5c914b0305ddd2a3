# flags: -I 2k -o slab_chunk_max=1024
# memcached sizes the item before it reads the data block: a block that
# passes the line's length check but makes an item over -I is refused as
# too large even when its trailer is bad (and a set drops the old value);
# one that fits gets bad data chunk.  For key "k", 1988 bytes fit in 2 KiB.
>>> set k 0 0 1
>>> x
<<< STORED
>>> set k 0 0 1988
>>- ${1988*a}xy
<<< CLIENT_ERROR bad data chunk
>>> get k
<<< VALUE k 0 1
<<< x
<<< END
>>> set k 0 0 1989
>>- ${1989*a}xy
<<< SERVER_ERROR object too large for cache
>>> get k
<<< END
>>> append k 0 0 2046
>>- ${2046*a}xy
<<< SERVER_ERROR object too large for cache
# meta: the same order, and a refused ms drops the key whatever its mode
>>> ms k 5 T0
>>> hello
<<< HD
>>> ms k 1988 MA
>>- ${1988*b}xy
<<< CLIENT_ERROR bad data chunk
>>> mg k v
<<< VA 5
<<< hello
>>> ms k 1989 MA
>>- ${1989*b}xy
<<< SERVER_ERROR object too large for cache
>>> mg k v
<<< EN
