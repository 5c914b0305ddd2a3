# requires: fresh
# meta commands count where memcached 1.6.18 counts them
>>> ms k 1
>>> 1
<<< HD
!snapshot
>>> mg k v
<<< VA 1
<<< 1
!delta get_hits 1
!delta cmd_get 1
>>> mg k T30
<<< HD
!delta cmd_touch 1
!delta touch_hits 1
!delta get_hits 1
>>> mg zz T30
<<< EN
!delta get_misses 1
!delta touch_misses 0
>>> mg viv N30
<<< HD W
!delta get_hits 2
!delta get_misses 1
>>> md k I
<<< HD
>>> md k I
<<< HD
!delta delete_hits 0
>>> md zz
<<< NF
!delta delete_misses 1
>>> ma n1
<<< NF
!delta incr_misses 1
>>> ma n1 N0
<<< HD
!delta incr_hits 0
>>> ma n1 MD
<<< HD
!delta decr_hits 1
>>> ms k 1 C1
>>> 1
<<< EX
!delta cas_badval 1
!delta cmd_set 1
!delta cmd_meta 0
