# Single-flight leases, as memcached 1.6.18: N vivifies an empty placeholder
# and hands W to one caller; every other caller sees Z; the lease token is
# the CAS; a fill with C ends the lease; md I marks stale (X) and re-leases.
>>> mg k N30 c v t
<<~ VA 0 c(?P<tok>\d+) t30 W
<<< 
>>> mg k N30 c v
<<< VA 0 c${tok} Z
<<< 
>>> mg k v
<<< VA 0 Z
<<< 
# the placeholder is an ordinary empty item to the other commands
>>> get k
<<< VALUE k 0 0
<<< 
<<< END
>>> ma k
<<< CLIENT_ERROR cannot increment or decrement non-numeric value
# a fill with the wrong token fails; the right one ends the lease
>>> ms k 5 C999999999 T60
>>> wrong
<<< EX
>>> ms k 5 C${tok} T60 c
>>> value
<<~ HD c(?P<c2>\d+)
>>> mg k N30 v t
<<< VA 5 t60
<<< value
# invalidation: md I marks stale and bumps the CAS; next reader wins (X W)
>>> md k I T30
<<< HD
>>> mg k N30 v c
<<~ VA 5 c(?P<tok2>\d+) X W
<<< value
>>> mg k N30 v c
<<< VA 5 c${tok2} Z X
<<< value
# a fill computed before the invalidation is refused...
>>> ms k 3 C${c2}
>>> old
<<< EX
# ...unless I asks to keep it as stale data: TTL and lease stay
>>> ms k 3 C${c2} I T999
>>> old
<<< HD
>>> mg k v t
<<< VA 3 t30 Z X
<<< old
# the stale fill gave the item a new CAS: the winner's token is spent too
>>> ms k 3 C${tok2} T60
>>> new
<<< EX
# a plain set makes the item fresh again
>>> ms k 3 T60
>>> new
<<< HD
>>> mg k v
<<< VA 3
<<< new
# a stale fill on an item nobody won yet: the next reader wins
>>> ms s8 1
>>> 1
<<< HD
>>> mg s8 c
<<~ HD c(?P<s8>\d+)
>>> md s8 I
<<< HD
>>> ms s8 1 C${s8} I
>>> 2
<<< HD
>>> mg s8 v
<<< VA 1 X W
<<< 2
# a higher, unknown token is refused even with I
>>> ms s8 1 C999999999 I
>>> 3
<<< EX
# early recache: under R seconds of TTL left, one reader refreshes
>>> ms r 1 T100
>>> 1
<<< HD
>>> mg r R30 v
<<< VA 1
<<< 1
>>> mg r R200 v c
<<~ VA 1 c(?P<rtok>\d+) W
<<< 1
>>> mg r R200 v
<<< VA 1 Z
<<< 1
>>> ms r 1 C${rtok} T100
>>> 2
<<< HD
>>> mg r R200 v
<<< VA 1 W
<<< 2
# R is an expiry like T: over 30 days it is an absolute unix time, so
# R10000000 (1970) and R-1 are in the past and never win; R far in the
# future (2033) always does
>>> ms ra 1 T2000000
>>> 1
<<< HD
>>> mg ra R10000000 v
<<< VA 1
<<< 1
>>> mg ra R-1 v
<<< VA 1
<<< 1
>>> mg ra R2000000000 v
<<< VA 1 W
<<< 1
# no TTL, no early win
>>> ms r2 1
>>> 1
<<< HD
>>> mg r2 R200 v
<<< VA 1
<<< 1
# a hit with N: no W (N only acts on a miss)
>>> ms h 1
>>> 1
<<< HD
>>> mg h N30 v
<<< VA 1
<<< 1
# flush_all ends the lease: the old token fills nothing, nothing comes back
>>> mg f N30 c
<<~ HD c(?P<ftok>\d+) W
>>> flush_all
<<< OK
>>> ms f 1 C${ftok}
>>> 1
<<< NF
>>> mg f v
<<< EN
>>> mg f N30 c
<<~ HD c\d+ W
# a delete ends it too: the token no longer matches anything
>>> mg d N30 c
<<~ HD c(?P<dtok>\d+) W
>>> md d
<<< HD
>>> ms d 1 C${dtok}
>>> 1
<<< NF
