# -X: no key listings
# flags: -X
>>> set a 0 0 1
>>> b
<<< STORED
>>> lru_crawler metadump all
<<< ERROR metadump not allowed
>>> lru_crawler metadump x
<<< ERROR metadump not allowed
>>> stats cachedump 1 1
<<< CLIENT_ERROR stats cachedump not allowed
>>> stats cachedump
<<< CLIENT_ERROR stats cachedump not allowed
>>> stats cachedumpx 1 1
<<< ERROR
>>> lru_crawler crawl 1
<<< OK
