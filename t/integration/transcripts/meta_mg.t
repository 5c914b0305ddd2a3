# mg: every retrieval flag on hits and misses, as memcached 1.6.18 answers
>>> ms k 5 F77 T0
>>> hello
<<< HD
# no flags: HD only; v adds the value block
>>> mg k
<<< HD
>>> mg k v
<<< VA 5
<<< hello
# return flags come back in request order
>>> mg k s v f t
<<< VA 5 s5 f77 t-1
<<< hello
>>> mg k f s
<<< HD f77 s5
>>> mg k c
<<~ HD c(?P<c1>\d+)
>>> mg k k v
<<< VA 5 kk
<<< hello
>>> mg k O12345 k c
<<< HD O12345 kk c${c1}
# h: fetched before this request; u: do not mark or bump
>>> ms h1 1
>>> x
<<< HD
>>> mg h1 u h
<<< HD h0
>>> mg h1 h
<<< HD h0
>>> mg h1 h l
<<< HD h1 l0
# T touches; t reports the TTL where it stands in the line
>>> ms tt 1 T100
>>> 1
<<< HD
>>> mg tt t T60
<<< HD t100
>>> mg tt t
<<< HD t60
>>> mg tt T30 t v
<<< VA 1 t30
<<< 1
# misses: EN, with O and k echoed; nothing at all under q
>>> mg nokey v
<<< EN
>>> mg nokey v O1 k
<<< EN O1 knokey
>>> mg nokey v q
>>> mg nokey T10 v q k
>>> mn
<<< MN
# q never hides a hit
>>> mg k q s
<<< HD s5
# P and L are proxy hints: accepted, ignored
>>> mg k P1 Lfoo s
<<< HD s5
# an expired item is a miss
>>> ms gone 1 T-1
>>> 1
<<< HD
>>> mg gone v
<<< EN
