# flush_all: at once, noreply, with a delay
>>> set a 0 0 1
>>> 1
>>> set b 0 0 1
>>> 2
<<< STORED
<<< STORED
>>> flush_all
<<< OK
>>> get a b
<<< END
>>> add a 0 0 1
>>> 3
<<< STORED
>>> flush_all noreply
!silent
>>> get a
<<< END
>>> flush_all 0
<<< OK
>>> flush_all abc
<<< CLIENT_ERROR invalid exptime argument
# delayed: items stay until the delay passes, then all go
>>> set c 0 0 1
>>> 4
<<< STORED
>>> flush_all 2
<<< OK
>>> get c
<<< VALUE c 0 1
<<< 4
<<< END
!sleep 3.2
>>> get c
<<< END
# items stored after the flush time are kept
>>> set d 0 0 1
>>> 5
<<< STORED
>>> get d
<<< VALUE d 0 1
<<< 5
<<< END
>>> flush_all 2 noreply
!silent
