# ms: modes, CAS, flags and TTL, echoes, quiet
>>> ms k 2
>>> hi
<<< HD
>>> ms k 2 c k O9
>>> ho
<<~ HD c(?P<c1>\d+) kk O9
>>> mg k v f t
<<< VA 2 f0 t-1
<<< ho
>>> ms k 3 F5 T100 q
>>> abc
>>> mg k v f t
<<< VA 3 f5 t100
<<< abc
# ME: add
>>> ms k 1 ME
>>> x
<<< NS
>>> ms add1 1 ME
>>> y
<<< HD
# MA / MP: append, prepend (flags kept); missing -> NS
>>> ms k 1 MA
>>> d
<<< HD
>>> ms k 1 MP
>>> _
<<< HD
>>> mg k v f
<<< VA 5 f5
<<< _abcd
>>> ms nokey 1 MA
>>> x
<<< NS
>>> ms nokey 1 MP
>>> x
<<< NS
# MR: replace; MS: set
>>> ms nokey 1 MR
>>> x
<<< NS
>>> ms k 1 MR
>>> r
<<< HD
>>> ms k 1 MS
>>> s
<<< HD
>>> ms k 1 MZ
>>> s
<<< CLIENT_ERROR invalid mode for ms M token
# C: compare and swap; c on failure reports c0
>>> mg k c
<<~ HD c(?P<c2>\d+)
>>> ms k 1 C${c2} c
>>> t
<<~ HD c(?P<c3>\d+)
>>> ms k 1 C${c2} c
>>> u
<<< EX c0
>>> ms nokey 1 C${c3}
>>> u
<<< NF
>>> ms k 1 C${c3} MR
>>> v
<<< HD
>>> mg k v
<<< VA 1
<<< v
# q hides HD only
>>> ms k 1 q
>>> w
>>> ms k 1 q ME
>>> z
<<< NS
>>> ms k 1 q C1
>>> z
<<< EX
>>> mn
<<< MN
# a data block of the wrong length
>>> ms k 2
>>> abc
<<< CLIENT_ERROR bad data chunk
<<< ERROR
>>> mg k v
<<< VA 1
<<< w
# C0 with I compares as well: no item has CAS 0
>>> set msc0 0 0 1
>>> 1
<<< STORED
>>> ms msc0 1 C0 I
>>> 2
<<< EX
>>> mg msc0 v
<<< VA 1
<<< 1
>>> ms nokey-msc0 1 C0 I
>>> 2
<<< NF
# but an append/prepend compares only a nonzero CAS, with or without I
>>> ms msc0 1 MP I C0
>>> 0
<<< HD
>>> ms msc0 1 MA C0
>>> 2
<<< HD
>>> mg msc0 v
<<< VA 3
<<< 012
