# quit closes the connection, and nothing after it in the same write runs
>>> set a 0 0 1
>>> 1
<<< STORED
>>> quit
>>> set a 0 0 1
>>> 2
!closed
!reconnect
>>> get a
<<< VALUE a 0 1
<<< 1
<<< END
