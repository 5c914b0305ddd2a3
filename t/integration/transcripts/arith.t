# incr / decr: wrap at 2^64, floor at 0, errors, noreply, length changes
>>> incr missing 1
<<< NOT_FOUND
>>> decr missing 1
<<< NOT_FOUND
>>> set n 5 0 1
>>> 9
<<< STORED
>>> incr n 1
<<< 10
>>> get n
<<< VALUE n 5 2
<<< 10
<<< END
>>> incr n 18446744073709551605
<<< 18446744073709551615
# 2^64 - 1 + 1 wraps to 0
>>> incr n 1
<<< 0
>>> incr n 18446744073709551615
<<< 18446744073709551615
>>> incr n 2
<<< 1
# decr never goes below 0
>>> decr n 5
<<< 0
>>> set d 0 0 3
>>> 100
<<< STORED
>>> decr d 1
<<< 99
# memcached may pad a shortened number with spaces in place
>>> get d
<<~ VALUE d 0 (2|3)
<<~ 99 ?
<<< END
>>> decr d 1000
<<< 0
>>> incr d 0
<<< 0
# errors
>>> set s 0 0 3
>>> abc
<<< STORED
>>> incr s 1
<<< CLIENT_ERROR cannot increment or decrement non-numeric value
>>> decr s 1
<<< CLIENT_ERROR cannot increment or decrement non-numeric value
>>> incr d abc
<<< CLIENT_ERROR invalid numeric delta argument
>>> incr d -1
<<< CLIENT_ERROR invalid numeric delta argument
>>> decr d 18446744073709551616
<<< CLIENT_ERROR invalid numeric delta argument
>>> incr d
<<< ERROR
# a value longer than 20 digits is not a number
>>> set big 0 0 21
>>> 123456789012345678901
<<< STORED
>>> incr big 1
<<< CLIENT_ERROR cannot increment or decrement non-numeric value
# noreply
>>> set c 0 0 2
>>> 10
<<< STORED
>>> incr c 5 noreply
>>> decr c 3 noreply
>>> incr missing 1 noreply
!silent
>>> get c
<<< VALUE c 0 2
<<< 12
<<< END
