# only: stashd
# stashd counts meta commands in stats detail too (memcached 1.6.18
# counts text and binary ones only)
>>> stats detail on
<<< OK
>>> ms m:1 1
>>> 1
<<< HD
>>> mg m:1 v
<<< VA 1
<<< 1
>>> mg m:2 v
<<< EN
>>> md m:1
<<< HD
>>> md m:1
<<< NF
>>> stats detail dump
<<< PREFIX m get 2 hit 1 set 1 del 2
<<< END
