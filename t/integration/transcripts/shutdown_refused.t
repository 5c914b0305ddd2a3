# without -A the shutdown command is refused and the server keeps running
>>> shutdown
<<< ERROR: shutdown not enabled
>>> version
<<~ VERSION \S+
