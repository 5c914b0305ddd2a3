# Fixed-window rate limiting in one round trip: ma creates the counter with
# the window as its TTL (N) and counts atomically; the window ends with it.
>>> ma rl:user1 N2 J1 v t
<<< VA 1 t2
<<< 1
>>> ma rl:user1 N2 J1 v
<<< VA 1
<<< 2
>>> ma rl:user1 N2 J1 v
<<< VA 1
<<< 3
# other windows are independent
>>> ma rl:user2 N2 J1 v
<<< VA 1
<<< 1
!sleep 3.2
# a new window starts from J again
>>> ma rl:user1 N2 J1 v
<<< VA 1
<<< 1
# D counts by more than one per request (weighted cost)
>>> ma rl:user3 N60 J5 D5 v
<<< VA 1
<<< 5
>>> ma rl:user3 N60 J5 D5 v
<<< VA 2
<<< 10
