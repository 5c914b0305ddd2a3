# A malformed or too-long number in a command line: memcached 1.6.18's
# replies (CLIENT_ERROR bad command line format and its relatives)
>>> set k 0 0 abc
<<< CLIENT_ERROR bad command line format
>>> set k abc 0 1
<<< CLIENT_ERROR bad command line format
>>> set k 0 abc 1
<<< CLIENT_ERROR bad command line format
>>> set k 0 0 99999999999999999999999
<<< CLIENT_ERROR bad command line format
>>> set k 0 0 -1
<<< CLIENT_ERROR bad command line format
>>> set k 99999999999999999999 0 1
<<< CLIENT_ERROR bad command line format
>>> set k 0 99999999999999999999 1
<<< CLIENT_ERROR bad command line format
>>> incr k abc
<<< CLIENT_ERROR invalid numeric delta argument
>>> incr k 99999999999999999999999
<<< CLIENT_ERROR invalid numeric delta argument
>>> incr k -1
<<< CLIENT_ERROR invalid numeric delta argument
>>> decr k 18446744073709551616
<<< CLIENT_ERROR invalid numeric delta argument
>>> touch k abc
<<< CLIENT_ERROR invalid exptime argument
>>> touch k 99999999999999999999
<<< CLIENT_ERROR invalid exptime argument
>>> gat abc k
<<< CLIENT_ERROR invalid exptime argument
>>> gat 99999999999999999999 k
<<< CLIENT_ERROR invalid exptime argument
>>> cas k 0 0 1 abc
<<< CLIENT_ERROR bad command line format
>>> cas k 0 0 1 99999999999999999999
<<< CLIENT_ERROR bad command line format
>>> delete k 0
<<< NOT_FOUND
>>> delete k 1
<<< CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]
>>> delete k abc
<<< CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]
>>> flush_all abc
<<< CLIENT_ERROR invalid exptime argument
>>> flush_all 99999999999999999999
<<< CLIENT_ERROR invalid exptime argument
>>> flush_all -1
<<< OK
>>> verbosity abc
<<< CLIENT_ERROR bad command line format
>>> verbosity 99999999999999999999
<<< CLIENT_ERROR bad command line format
>>> verbosity
<<< ERROR
>>> memlimit abc
<<< ERROR
>>> memlimit 99999999999999999999
<<< ERROR
>>> memlimit
<<< ERROR
>>> slabs reassign abc 1
<<< CLIENT_ERROR bad command line format
>>> slabs automove abc
<<< CLIENT_ERROR bad command line format
>>> lru_crawler sleep abc
<<< CLIENT_ERROR bad command line format
>>> lru_crawler tocrawl 99999999999999999999
<<< CLIENT_ERROR bad command line format
>>> lru_crawler crawl abc
<<< BADCLASS invalid class id
>>> lru_crawler metadump abc
<<< BADCLASS invalid class id
>>> lru mode abc
<<< ERROR
>>> lru temp_ttl abc
<<< ERROR
>>> stats cachedump abc 1
<<< CLIENT_ERROR bad command line format
>>> stats cachedump 1 abc
<<< CLIENT_ERROR bad command line format
>>> stats cachedump 1 99999999999999999999
<<< CLIENT_ERROR bad command line format
