# delete and touch
>>> delete k
<<< NOT_FOUND
>>> set k 0 0 1
>>> x
<<< STORED
>>> delete k
<<< DELETED
>>> get k
<<< END
>>> delete k
<<< NOT_FOUND
# "delete key 0" is still accepted for old clients; other times are not
>>> set k 0 0 1
>>> x
<<< STORED
>>> delete k 0
<<< DELETED
>>> set k 0 0 1
>>> x
<<< STORED
>>> delete k 5
<<< CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]
>>> delete k noreply
>>> delete k noreply
!silent
>>> get k
<<< END
>>> delete
<<< ERROR
# touch
>>> touch k 10
<<< NOT_FOUND
>>> set t 0 0 1
>>> 1
<<< STORED
>>> touch t 1
<<< TOUCHED
>>> touch t 100 noreply
>>> touch nothere 100 noreply
!silent
>>> touch t abc
<<< CLIENT_ERROR invalid exptime argument
>>> touch t
<<< ERROR
# touch -1 expires the item at once
>>> touch t -1
<<< TOUCHED
>>> get t
<<< END
