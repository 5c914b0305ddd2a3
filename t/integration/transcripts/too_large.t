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
