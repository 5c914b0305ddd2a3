# requires: fresh
# where memcached 1.6.18 counts reads and stores: a gat/gats is a touch
# (cmd_touch, touch_hits/touch_misses), never a get; every storage command
# counts in cmd_set, stored or not; a value refused for its size counts in
# store_too_large; each key of a multiget counts once
>>> set a 0 0 1
>>> x
<<< STORED
!snapshot
>>> gat 0 a nope
<<< VALUE a 0 1
<<< x
<<< END
!delta cmd_touch 2
!delta touch_hits 1
!delta touch_misses 1
!delta cmd_get 0
!delta get_hits 0
!delta get_misses 0
>>> get a a nope a
<<< VALUE a 0 1
<<< x
<<< VALUE a 0 1
<<< x
<<< VALUE a 0 1
<<< x
<<< END
!delta cmd_get 4
!delta get_hits 3
!delta get_misses 1
>>> add a 0 0 1
>>> y
<<< NOT_STORED
>>> append nope 0 0 1
>>> y
<<< NOT_STORED
>>> cas a 0 0 1 999999
>>> y
<<< EXISTS
>>> set big 0 0 1100000
>>> ${1100000*b}
<<< SERVER_ERROR object too large for cache
!delta cmd_set 3
!delta cas_badval 1
!delta store_too_large 1
