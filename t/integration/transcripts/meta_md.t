# md: delete, CAS guard, echoes, quiet, invalidation
>>> ms k 1
>>> a
<<< HD
>>> md k
<<< HD
>>> md k
<<< NF
>>> mg k v
<<< EN
>>> md k O5 k
<<< NF O5 kk
>>> ms k 1
>>> a
<<< HD
>>> mg k c
<<~ HD c(?P<c1>\d+)
>>> md k C999999999 O1
<<< EX O1
>>> md k C${c1} k
<<< HD kk
# q: HD hidden, NF and EX shown
>>> ms k 1
>>> a
<<< HD
>>> md k q
>>> md k q
<<< NF
>>> ms k 1
>>> a
<<< HD
>>> md k q C1
<<< EX
>>> mn
<<< MN
# T alone is ignored; with I it sets the TTL of the stale item
>>> md k T50
<<< HD
>>> ms k 1 T100
>>> a
<<< HD
>>> md k I T50
<<< HD
>>> mg k t v
<<< VA 1 t50 X W
<<< a
# I keeps the item (stale), bumps its CAS
>>> ms j 1
>>> b
<<< HD
>>> mg j c
<<~ HD c(?P<j1>\d+)
>>> md j I q
>>> mg j c v
<<~ VA 1 c(?!${j1}\b)\d+ X W
<<< b
# errors: md reports any flag problem alike
>>> md j Y
<<< CLIENT_ERROR invalid or duplicate flag
>>> md j q q
<<< CLIENT_ERROR invalid or duplicate flag
# C0 is a compare like any C: no item has CAS 0, so it never deletes
>>> set c0 0 0 1
>>> 1
<<< STORED
>>> md c0 C0
<<< EX
>>> md c0 I C0
<<< EX
>>> mg c0 v
<<< VA 1
<<< 1
>>> md nokey-c0 C0
<<< NF
