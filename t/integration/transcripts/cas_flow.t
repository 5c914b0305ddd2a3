# The CAS unique seen by gets lets exactly one writer win, and every change
# of the item (set, cas, append, incr) gives it a new unique; touch does not.
>>> set k 0 0 1
>>> a
<<< STORED
>>> gets k
<<~ VALUE k 0 1 (?P<c1>\d+)
<<< a
<<< END
>>> cas k 3 0 1 ${c1}
>>> b
<<< STORED
>>> gets k
<<~ VALUE k 3 1 (?!${c1}$)(?P<c2>\d+)
<<< b
<<< END
# the old unique no longer matches
>>> cas k 0 0 1 ${c1}
>>> c
<<< EXISTS
>>> cas k 0 0 1 ${c2} noreply
>>> d
!silent
>>> gets k
<<~ VALUE k 0 1 (?!${c2}$)(?P<c3>\d+)
<<< d
<<< END
>>> touch k 100
<<< TOUCHED
>>> gets k
<<< VALUE k 0 1 ${c3}
<<< d
<<< END
>>> append k 0 0 1
>>> e
<<< STORED
>>> gets k
<<~ VALUE k 0 2 (?!${c3}$)(?P<c4>\d+)
<<< de
<<< END
>>> set n 0 0 1
>>> 5
<<< STORED
>>> gets n
<<~ VALUE n 0 1 (?P<n1>\d+)
<<< 5
<<< END
>>> incr n 1
<<< 6
>>> gets n
<<~ VALUE n 0 1 (?!${n1}$)\d+
<<< 6
<<< END
# cas on a deleted item
>>> delete k
<<< DELETED
>>> cas k 0 0 1 ${c4}
>>> z
<<< NOT_FOUND
# cas with noreply on a stale unique: silently not stored
>>> set k 0 0 1
>>> y
<<< STORED
>>> cas k 0 0 1 ${c4} noreply
>>> w
!silent
>>> get k
<<< VALUE k 0 1
<<< y
<<< END
