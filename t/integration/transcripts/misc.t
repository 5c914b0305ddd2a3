# version, verbosity, cache_memlimit
>>> version
<<~ VERSION \d+\.\d+\.\d+\S*
>>> verbosity 1
<<< OK
>>> verbosity 0 noreply
!silent
>>> verbosity
<<< ERROR
>>> cache_memlimit 100
<<< OK
>>> cache_memlimit 0
<<~ MEMLIMIT_TOO_SMALL .*
>>> cache_memlimit abc
<<< ERROR
>>> cache_memlimit
<<< ERROR
>>> cache_memlimit 64 noreply
!silent
!stat limit_maxbytes 67108864
