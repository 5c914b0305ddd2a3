# set / add / replace / append / prepend, with and without noreply
>>> set k 1 0 3
>>> abc
<<< STORED
>>> set k 2 0 4
>>> defg
<<< STORED
>>> get k
<<< VALUE k 2 4
<<< defg
<<< END
>>> add k 0 0 1
>>> x
<<< NOT_STORED
>>> add new 3 0 2
>>> nn
<<< STORED
>>> replace missing 0 0 1
>>> x
<<< NOT_STORED
>>> replace k 9 0 2
>>> rr
<<< STORED
>>> get k new
<<< VALUE k 9 2
<<< rr
<<< VALUE new 3 2
<<< nn
<<< END
# append / prepend keep the flags of the stored item
>>> append k 77 0 3
>>> END
<<< STORED
>>> prepend k 88 0 5
>>> START
<<< STORED
>>> get k
<<< VALUE k 9 10
<<< STARTrrEND
<<< END
>>> append missing 0 0 1
>>> x
<<< NOT_STORED
>>> prepend missing 0 0 1
>>> x
<<< NOT_STORED
>>> get missing
<<< END
# noreply: no answer at all, but the effect happens
>>> set q 0 0 1 noreply
>>> 1
!silent
>>> add q 0 0 1 noreply
>>> 2
>>> add q2 0 0 1 noreply
>>> 2
>>> replace q 0 0 1 noreply
>>> 3
>>> append q 0 0 1 noreply
>>> 4
>>> prepend q 0 0 1 noreply
>>> 5
>>> append nothere 0 0 1 noreply
>>> 6
!silent
>>> get q q2 nothere
<<< VALUE q 0 3
<<< 534
<<< VALUE q2 0 1
<<< 2
<<< END
# an expired item is gone for add/replace/append
>>> set gone 0 -1 1
>>> x
<<< STORED
>>> get gone
<<< END
>>> replace gone 0 0 1
>>> y
<<< NOT_STORED
>>> add gone 0 0 1
>>> z
<<< STORED
>>> get gone
<<< VALUE gone 0 1
<<< z
<<< END
