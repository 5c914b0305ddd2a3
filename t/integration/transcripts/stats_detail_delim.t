# -D sets the prefix delimiter and turns stats detail on at start
# flags: -D /
>>> stats settings
<<@ STAT detail_enabled yes
<<* STAT \S+ .*
<<< END
>>> set user/1 0 0 1
>>> 1
<<< STORED
>>> get user/1 user/2 a:b
<<< VALUE user/1 0 1
<<< 1
<<< END
>>> stats detail dump
<<< PREFIX user get 2 hit 1 set 1 del 0
<<< END
