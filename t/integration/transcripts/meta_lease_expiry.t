# A winner that never fills: the lease ends with the placeholder's TTL and
# the next caller wins.
>>> mg k N1 v
<<< VA 0 W
<<< 
>>> mg k N1 v
<<< VA 0 Z
<<< 
!sleep 2.2
>>> mg k N1 v
<<< VA 0 W
<<< 
# the same for a stale item whose winner vanished: it expires with md I's T
>>> ms s 1
>>> 1
<<< HD
>>> md s I T1
<<< HD
>>> mg s v
<<< VA 1 X W
<<< 1
>>> mg s v
<<< VA 1 Z X
<<< 1
!sleep 2.2
>>> mg s v
<<< EN
>>> mg s N30 v
<<< VA 0 W
<<< 
