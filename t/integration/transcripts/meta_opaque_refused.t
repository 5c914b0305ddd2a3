# an mg whose opaque token is over 32 bytes answers CLIENT_ERROR opaque
# token too long, but (as memcached, which meets the error while walking
# the flags after the lookup) it has already vivified with N, applied the
# flags before the O token and not those after, handed out no win token,
# and, when it had a flag that locks the item (N R T h l), not bumped it
>>> mg x N0 q OOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOO
<<< CLIENT_ERROR opaque token too long
>>> mg x k v t c h
<<< VA 0 kx t-1 c1 h0
<<< 
>>> mg y OOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOO N1000 q
<<< CLIENT_ERROR opaque token too long
>>> mg y t h
<<< HD t-1 h0
>>> mg z N1000 OOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOO T0
<<< CLIENT_ERROR opaque token too long
>>> mg z t N0
<<~ HD t(999|1000)
>>> set a 0 0 1
>>> 1
<<< STORED
>>> mg a h OOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOO
<<< CLIENT_ERROR opaque token too long
>>> mg a h
<<< HD h0
>>> mg a v OOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOO
<<< CLIENT_ERROR opaque token too long
>>> mg a h
<<< HD h1
>>> set b 0 0 1
>>> 1
<<< STORED
>>> mg b OOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOO T100
<<< CLIENT_ERROR opaque token too long
>>> mg b t
<<< HD t-1
>>> mg b T100 OOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOO
<<< CLIENT_ERROR opaque token too long
>>> mg b t
<<~ HD t(99|100)
>>> mg b R200 OOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOO
<<< CLIENT_ERROR opaque token too long
>>> mg b R200 v
<<< VA 1 W
<<< 1
# four TTL flags before O: the flags after it still do not apply
>>> mg c T5 R3 t OOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOO N0
<<< CLIENT_ERROR opaque token too long
>>> mg c t
<<~ HD t[45]
# ma: the arithmetic happens, then the walk that applies T and N stops at O
>>> ma m OOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOO N-1 J1
<<< CLIENT_ERROR opaque token too long
>>> mg m v t
<<< VA 1 t-1
<<< 1
>>> ma m T100 OOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOO
<<< CLIENT_ERROR opaque token too long
>>> mg m v t
<<~ VA 1 t(99|100)
<<< 2
