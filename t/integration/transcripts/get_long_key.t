# a get/gets/gat/gats whose k-th key is over 250 bytes answers CLIENT_ERROR
# bad command line format and nothing for keys 1..k-1, but memcached has
# already looked them up (fetched flag) and gat has touched them (TTL)
>>> set a 0 0 1
>>> 1
<<< STORED
>>> set b 0 0 1
>>> 2
<<< STORED
>>> get a ${251*y} b
<<< CLIENT_ERROR bad command line format
>>> mg a h
<<< HD h1
>>> mg b h
<<< HD h0
>>> gat 1000 b ${251*y}
<<< CLIENT_ERROR bad command line format
>>> mg b h t
<<~ HD h1 t(999|1000)
>>> gats 2000 ${251*y} b
<<< CLIENT_ERROR bad command line format
>>> mg b t
<<~ HD t(99[89]|1000)
