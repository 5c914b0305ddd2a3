# -o track_sizes: memcached's 32-byte buckets of its item size
# (header 48 + key + 1 + value + 2 + CAS 8, + 4 with non-zero flags)
# flags: -o track_sizes
>>> stats sizes
<<< END
>>> set a:b 0 0 1
>>> 1
<<< STORED
>>> set a:c 0 0 1
>>> 1
<<< STORED
>>> set a:bb 0 0 100
>>> ${100*x}
<<< STORED
>>> set f 7 0 200
>>> ${200*y}
<<< STORED
>>> stats sizes
<<< STAT 64 2
<<< STAT 192 1
<<< STAT 288 1
<<< END
# replacing and deleting move the counts
>>> set a:c 0 0 100
>>> ${100*z}
<<< STORED
>>> delete a:bb
<<< DELETED
>>> stats sizes
<<< STAT 64 1
<<< STAT 192 1
<<< STAT 288 1
<<< END
