# a value over the item size limit (-I, 1 MiB by default) is refused, its
# data is swallowed, and the old value of the key is dropped
>>> set k 0 0 1
>>> x
<<< STORED
>>> set k 0 0 1100000
>>> ${1100000*a}
<<< SERVER_ERROR object too large for cache
>>> get k
<<< END
>>> set k2 0 0 2000000 noreply
>>> ${2000000*b}
>>> get k2
<<< END
# the largest value that fits still works
>>> set ok 0 0 1000000
>>> ${1000000*c}
<<< STORED
>>> get ok
<<< VALUE ok 0 1000000
<<< ${1000000*c}
<<< END
# the limit is on memcached's item size: 48-byte header, key + NUL, flags
# when nonzero, value + CRLF and the CAS (8) must fit in -I
>>> set e 0 0 1048516
>>> ${1048516*d}
<<< STORED
>>> set e 0 0 1048517
>>> ${1048517*d}
<<< SERVER_ERROR object too large for cache
>>> set f 1 0 1048513
>>> ${1048513*d}
<<< SERVER_ERROR object too large for cache
>>> set f 1 0 1048512
>>> ${1048512*d}
<<< STORED
>>> mg f s
<<< HD s1048512
# ms over the limit drops the old value whatever its mode
>>> set g 0 0 1
>>> 1
<<< STORED
>>> ms g 1048517 MA
>>> ${1048517*d}
<<< SERVER_ERROR object too large for cache
>>> mg g s
<<< EN
# append/prepend: a block over the limit on its own is too large (even for
# a missing key), a joined value over it is not stored and the old stays
>>> append nokey 0 0 1048517
>>> ${1048517*d}
<<< SERVER_ERROR object too large for cache
>>> set h 0 0 600000
>>> ${600000*h}
<<< STORED
>>> append h 0 0 600000
>>> ${600000*i}
<<< NOT_STORED
>>> ms h 600000 MP
>>> ${600000*i}
<<< NS
>>> mg h s
<<< HD s600000
