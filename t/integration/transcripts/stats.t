# requires: fresh
# stats and its sub-commands: names present, counters move
>>> stats
<<@ STAT pid \d+
<<@ STAT uptime \d+
<<@ STAT time \d+
<<@ STAT version \S+
<<@ STAT pointer_size (32|64)
<<@ STAT rusage_user \d+\.\d+
<<@ STAT rusage_system \d+\.\d+
<<@ STAT curr_connections \d+
<<@ STAT total_connections \d+
<<@ STAT cmd_get 0
<<@ STAT cmd_set 0
<<@ STAT cmd_flush 0
<<@ STAT cmd_touch 0
<<@ STAT get_hits 0
<<@ STAT get_misses 0
<<@ STAT get_expired 0
<<@ STAT delete_misses 0
<<@ STAT delete_hits 0
<<@ STAT incr_misses 0
<<@ STAT incr_hits 0
<<@ STAT decr_misses 0
<<@ STAT decr_hits 0
<<@ STAT cas_misses 0
<<@ STAT cas_hits 0
<<@ STAT cas_badval 0
<<@ STAT touch_hits 0
<<@ STAT touch_misses 0
<<@ STAT bytes_read \d+
<<@ STAT bytes_written \d+
<<@ STAT limit_maxbytes 67108864
<<@ STAT threads 4
<<@ STAT bytes 0
<<@ STAT curr_items 0
<<@ STAT total_items 0
<<@ STAT evictions 0
<<@ STAT reclaimed 0
<<* STAT \S+ .*
<<< END
!snapshot
>>> set a 0 0 1
>>> 1
<<< STORED
>>> get a b
<<< VALUE a 0 1
<<< 1
<<< END
>>> gets a
<<~ VALUE a 0 1 (?P<cas>\d+)
<<< 1
<<< END
>>> cas a 0 0 1 ${cas}
>>> 2
<<< STORED
>>> cas a 0 0 1 ${cas}
>>> 3
<<< EXISTS
>>> cas nope 0 0 1 1
>>> 3
<<< NOT_FOUND
>>> set n 0 0 1
>>> 1
<<< STORED
# three items were linked (set, cas, set); incr may or may not make new ones
!delta total_items 3
>>> incr n 1
<<< 2
>>> incr x 1
<<< NOT_FOUND
>>> decr n 1
<<< 1
>>> touch a 0
<<< TOUCHED
>>> touch x 0
<<< NOT_FOUND
>>> delete n
<<< DELETED
>>> delete n
<<< NOT_FOUND
>>> flush_all
<<< OK
!delta cmd_get 3
!delta get_hits 2
!delta get_misses 1
!delta cmd_set 5
!delta cas_hits 1
!delta cas_badval 1
!delta cas_misses 1
!delta incr_hits 1
!delta incr_misses 1
!delta decr_hits 1
!delta cmd_touch 2
!delta touch_hits 1
!delta touch_misses 1
!delta delete_hits 1
!delta delete_misses 1
!delta cmd_flush 1
# sub-commands
>>> set a 0 0 1
>>> 1
<<< STORED
>>> stats items
<<@ STAT items:\d+:number 1
<<@ STAT items:\d+:age \d+
<<@ STAT items:\d+:evicted 0
<<@ STAT items:\d+:outofmemory 0
<<* STAT items:\d+:\S+ \d+
<<< END
>>> stats slabs
<<@ STAT \d+:chunk_size \d+
<<@ STAT \d+:chunks_per_page \d+
<<@ STAT \d+:total_pages \d+
<<@ STAT \d+:used_chunks \d+
<<@ STAT active_slabs \d+
<<@ STAT total_malloced \d+
<<* STAT \S+ \d+
<<< END
>>> stats settings
<<@ STAT maxbytes 67108864
<<@ STAT maxconns 1024
<<@ STAT tcpport \d+
<<@ STAT udpport 0
<<@ STAT verbosity 0
<<@ STAT num_threads 4
<<@ STAT growth_factor 1\.(16|25)
<<@ STAT chunk_size 48
<<@ STAT evictions on
<<@ STAT cas_enabled yes
<<@ STAT item_size_max 1048576
<<* STAT \S+ .*
<<< END
>>> stats conns
<<@ STAT \d+:addr tcp:127\.0\.0\.1:\d+
<<@ STAT \d+:state conn_\w+
<<* STAT \d+:\S+ .*
<<< END
>>> stats reset
<<< RESET
!stat get_hits 0
!stat cmd_get 0
>>> stats nonsense
<<< ERROR
