# stats sizes without -o track_sizes, and sizes_enable / sizes_disable
>>> stats sizes
<<< STAT sizes_status disabled
<<< END
>>> stats settings
<<@ STAT track_sizes no
<<* STAT \S+ .*
<<< END
# the replies to enable/disable have no END
>>> stats sizes_enable
<<< STAT sizes_status enabled
>>> stats sizes
<<< END
>>> set a:b 0 0 1
>>> 1
<<< STORED
>>> stats sizes
<<< STAT 64 1
<<< END
>>> stats settings
<<@ STAT track_sizes yes
<<* STAT \S+ .*
<<< END
>>> stats sizes_disable
<<< STAT sizes_status disabled
>>> stats sizes
<<< STAT sizes_status disabled
<<< END
# enabling again starts an empty histogram
>>> stats sizes_enable
<<< STAT sizes_status enabled
>>> stats sizes
<<< END
