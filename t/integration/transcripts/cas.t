# cas: NOT_FOUND, EXISTS, STORED, noreply; every store changes the CAS
>>> cas k 0 0 1 12345
>>> x
<<< NOT_FOUND
>>> set k 0 0 1
>>> a
<<< STORED
>>> gets k
<<~ VALUE k 0 1 (\d+)
<<< a
<<< END
>>> cas k 0 0 1 0
>>> x
<<< EXISTS
>>> cas k 0 0 1 18446744073709551615
>>> x
<<< EXISTS
>>> get k
<<< VALUE k 0 1
<<< a
<<< END
>>> cas k 0 0 1
>>> x
<<< ERROR
<<< ERROR
>>> cas k 0 0 1 abc
>>> x
<<< CLIENT_ERROR bad command line format
<<< ERROR
>>> cas missing 0 0 1 1 noreply
>>> x
!silent
