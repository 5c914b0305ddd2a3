# lru_crawler and stats cachedump: memcached 1.6.18's replies and argument
# rules (numbers read as safe_strtoul: sign refused, cut to 32 bits)
# requires: fresh
>>> lru_crawler
<<< ERROR
>>> lru_crawler bogus
<<< ERROR
>>> lru_crawler on
<<< ERROR
>>> lru_crawler crawl
<<< ERROR
>>> lru_crawler crawl 1 2
<<< ERROR
>>> lru_crawler crawl 0
<<< BADCLASS invalid class id
>>> lru_crawler crawl 64
<<< BADCLASS invalid class id
>>> lru_crawler crawl x
<<< BADCLASS invalid class id
>>> lru_crawler crawl 1,x
<<< BADCLASS invalid class id
>>> lru_crawler crawl -1
<<< BADCLASS invalid class id
>>> lru_crawler crawl hash
<<< ERROR an unknown error happened
>>> lru_crawler metadump
<<< ERROR
>>> lru_crawler metadump 0
<<< BADCLASS invalid class id
>>> lru_crawler metadump 1,99
<<< BADCLASS invalid class id
>>> lru_crawler metadump 2
<<< END
>>> lru_crawler sleep
<<< ERROR
>>> lru_crawler sleep 1000001
<<< CLIENT_ERROR sleep must be one second or less
>>> lru_crawler sleep -1
<<< CLIENT_ERROR bad command line format
>>> lru_crawler sleep x
<<< CLIENT_ERROR bad command line format
>>> lru_crawler sleep 12x
<<< CLIENT_ERROR bad command line format
>>> lru_crawler sleep 1000000
<<< OK
>>> lru_crawler sleep 4294967396
<<< OK
>>> lru_crawler tocrawl -1
<<< CLIENT_ERROR bad command line format
>>> lru_crawler tocrawl 5
<<< OK
>>> lru_crawler tocrawl 0
<<< OK
>>> lru_crawler sleep 5 noreply
<<< ERROR
>>> lru_crawler enable
<<< ERROR failed to start lru crawler thread
>>> lru_crawler disable
<<< OK
>>> lru_crawler disable
<<< OK
>>> lru_crawler crawl 1
<<< CLIENT_ERROR lru crawler disabled
>>> lru_crawler crawl x
<<< CLIENT_ERROR lru crawler disabled
>>> lru_crawler metadump all
<<< CLIENT_ERROR lru crawler disabled
!sleep 0.3
>>> lru_crawler enable
<<< OK
>>> lru_crawler crawl 1,,2
<<< OK
# the crawl runs on the crawler thread; a dump asked for before it ends
# answers BUSY (both servers), so let it finish
!sleep 0.5
# stats cachedump CLASS LIMIT
>>> stats cachedump
<<< CLIENT_ERROR bad command line
>>> stats cachedump 1
<<< CLIENT_ERROR bad command line
>>> stats cachedump x 0
<<< CLIENT_ERROR bad command line format
>>> stats cachedump 1 -1
<<< CLIENT_ERROR bad command line format
>>> stats cachedump 64 0
<<< CLIENT_ERROR Illegal slab id
>>> stats cachedump 0 0
<<< END
>>> stats cachedump 4294967296 0
<<< END
>>> stats cachedumpx 1 1
<<< ERROR
# one item: what each listing prints of it
>>> set foo 7 0 3
>>> bar
<<< STORED
>>> set a%20b 0 ${now+100} 1
>>> x
<<< STORED
>>> get foo
<<< VALUE foo 7 3
<<< bar
<<< END
>>> lru_crawler metadump hash
<<~ key=(foo|a%2520b) exp=(-1|${now+100}|${now+99}) la=\d+ cas=\d+ fetch=(yes|no) cls=\d+ size=\d+\nkey=(foo|a%2520b) exp=(-1|${now+100}|${now+99}) la=\d+ cas=\d+ fetch=(yes|no) cls=\d+ size=\d+\nEND
