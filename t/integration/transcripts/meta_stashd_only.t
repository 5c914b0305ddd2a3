# only: stashd
# E (explicit CAS) and md x come from memcached releases after 1.6.18, which
# answer CLIENT_ERROR invalid flag to them; stashd follows later memcached.
>>> mg k N30 E100 c
<<< HD c100 W
>>> ms k 1 E5 c
>>> 1
<<< HD c5
>>> mg k c v
<<< VA 1 c5
<<< 1
>>> ms k 1 C5 E7 c
>>> 2
<<< HD c7
# md I E: the stale item takes the given CAS
>>> md k E9 I
<<< HD
>>> mg k c v
<<< VA 1 c9 X W
<<< 2
# md x: an empty item in place (flags F, TTL T), same CAS, not stale
>>> md k x F3 T50
<<< HD
>>> mg k c f t v s
<<< VA 0 c9 f3 t50 s0
<<< 
>>> md k x
<<< HD
>>> mg k f t
<<< HD f0 t-1
# md x I: emptied and stale, unwon
>>> ms j 3
>>> abc
<<< HD
>>> md j x I
<<< HD
>>> mg j v
<<< VA 0 X W
<<< 
>>> md nokey x
<<< NF
# ma E
>>> ma cnt N0 J1 E42 c v
<<< VA 1 c42
<<< 1
>>> ma cnt E43 c v
<<< VA 1 c43
<<< 2
# an explicit CAS does not outlive flush_all, and later CAS values do not
# collide with it
>>> ms big 1 E999999999 c
>>> 1
<<< HD c999999999
>>> ms next 1 c
>>> 1
<<~ HD c(?!999999999$)\d{10,}
>>> ms k2 1
>>> 1
<<< HD
>>> md k2 I E2999999999
<<< HD
>>> flush_all
<<< OK
>>> mg big v
<<< EN
>>> mg k2 v
<<< EN
# w (stashd's server-side wait) is an mg flag only
>>> md k w100
<<< CLIENT_ERROR invalid or duplicate flag
# ma T when the result does not fit the old value's bytes ("99" + 1):
# memcached 1.6.18 links a new item but sets the TTL on the replaced one,
# so the new value keeps its old TTL although the reply shows the new t;
# stashd gives the value the TTL its reply shows (scripts/difftest header).
>>> set ma99 0 0 2
>>> 99
<<< STORED
>>> ma ma99 T5000 t v
<<< VA 3 t5000
<<< 100
>>> mg ma99 t v
<<< VA 3 t5000
<<< 100
