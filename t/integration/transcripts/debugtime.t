# requires: debugtime
# stashd debug builds: `debugtime N` moves the server clock N seconds ahead,
# so long expiry times are tested without sleeping.  Skipped elsewhere.
>>> set h 0 3600 1
>>> h
<<< STORED
>>> set d 0 2592000 1
>>> d
<<< STORED
>>> set a 0 ${now+7200} 1
>>> a
<<< STORED
>>> set n 0 0 1
>>> n
<<< STORED
>>> debugtime 3599
<<< OK
>>> get h a
<<< VALUE h 0 1
<<< h
<<< VALUE a 0 1
<<< a
<<< END
>>> debugtime 2
<<< OK
>>> get h a
<<< VALUE a 0 1
<<< a
<<< END
>>> debugtime 3600
<<< OK
>>> get a d
<<< VALUE d 0 1
<<< d
<<< END
>>> debugtime 2592000
<<< OK
>>> get d n
<<< VALUE n 0 1
<<< n
<<< END
# relative times count from the moved clock
>>> set r 0 100 1
>>> r
<<< STORED
>>> debugtime 99
<<< OK
>>> get r
<<< VALUE r 0 1
<<< r
<<< END
>>> debugtime 2
<<< OK
>>> get r
<<< END
