# gat / gats: fetch and touch, multi-key
>>> gat 100 nothing
<<< END
>>> set a 5 0 1
>>> 1
<<< STORED
>>> set b 6 0 2
>>> 22
<<< STORED
>>> gat 100 a nothing b
<<< VALUE a 5 1
<<< 1
<<< VALUE b 6 2
<<< 22
<<< END
>>> gats 100 a b
<<~ VALUE a 5 1 \d+
<<< 1
<<~ VALUE b 6 2 \d+
<<< 22
<<< END
# gat with a past expiry makes the item expire
>>> gat -1 a
<<< VALUE a 5 1
<<< 1
<<< END
>>> get a b
<<< VALUE b 6 2
<<< 22
<<< END
# gat with a short ttl: gone after it passes
>>> gat 1 b
<<< VALUE b 6 2
<<< 22
<<< END
!sleep 2.2
>>> get b
<<< END
>>> gat
<<< ERROR
>>> gat abc b
<<< CLIENT_ERROR invalid exptime argument
