# expiry times: relative seconds, absolute unix times, the 30-day boundary
# relative: present now, gone after it passes (the clock ticks once a second)
>>> set rel 0 2 1
>>> r
<<< STORED
>>> get rel
<<< VALUE rel 0 1
<<< r
<<< END
# absolute: now+2 behaves like relative 2
>>> set abs 0 ${now+2} 1
>>> a
<<< STORED
>>> get abs
<<< VALUE abs 0 1
<<< a
<<< END
# absolute in the past, negative: expired at once
>>> set past 0 ${now-3} 1
>>> p
<<< STORED
>>> set neg 0 -1 1
>>> n
<<< STORED
>>> get past neg
<<< END
# 2592000 (30 days) is still relative; 2592001 is an absolute time in 1970
>>> set d30 0 2592000 1
>>> m
<<< STORED
>>> set d30p 0 2592001 1
>>> o
<<< STORED
>>> get d30 d30p
<<< VALUE d30 0 1
<<< m
<<< END
# an absolute time 30 days ahead is kept
>>> set far 0 ${now+2592100} 1
>>> f
<<< STORED
>>> set never 0 0 1
>>> z
<<< STORED
!sleep 3.2
>>> get rel abs far never d30
<<< VALUE far 0 1
<<< f
<<< VALUE never 0 1
<<< z
<<< VALUE d30 0 1
<<< m
<<< END
# touch moves the expiry both ways
>>> touch never 1
<<< TOUCHED
>>> touch far 0
<<< TOUCHED
!sleep 2.2
>>> get never far
<<< VALUE far 0 1
<<< f
<<< END
