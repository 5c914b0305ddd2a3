# unknown commands, bad lines, bad keys, bad data chunks, too large values
>>> bogus
<<< ERROR
>>> 
<<< ERROR
>>> GET a
<<< ERROR
>>> get
<<< ERROR
>>> set k 0 0
<<< ERROR
>>> set k 0
<<< ERROR
# 251-byte keys are refused everywhere
>>> set ${251*k} 0 0 1
<<< CLIENT_ERROR bad command line format
>>> get ${251*k}
<<< CLIENT_ERROR bad command line format
>>> gets b ${251*k}
<<< CLIENT_ERROR bad command line format
>>> delete ${251*k}
<<< CLIENT_ERROR bad command line format
>>> incr ${251*k} 1
<<< CLIENT_ERROR bad command line format
>>> touch ${251*k} 1
<<< CLIENT_ERROR bad command line format
# bad numbers in a storage command
>>> set k 0 0 -1
<<< CLIENT_ERROR bad command line format
>>> set k 0 0 abc
<<< CLIENT_ERROR bad command line format
>>> set k abc 0 1
<<< CLIENT_ERROR bad command line format
>>> set k -1 0 1
<<< CLIENT_ERROR bad command line format
>>> set k 0 abc 1
<<< CLIENT_ERROR bad command line format
# data block longer than announced: the two bytes after the announced
# length must be \r\n; here they are "de", and the "\r\n" left over is an
# empty command line
>>> set k 0 0 3
>>> abcde
<<< CLIENT_ERROR bad data chunk
<<< ERROR
>>> get k
<<< END
# the connection is still in sync afterwards
>>> set k 0 0 3
>>> abc
<<< STORED
# data block followed by two wrong bytes and then a command: the command
# still runs
>>> set k 0 0 3
>>- xyzXY
>>> get k
<<< CLIENT_ERROR bad data chunk
<<< VALUE k 0 3
<<< abc
<<< END
