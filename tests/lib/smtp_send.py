#!/usr/bin/python3
"""smtp_send.py - submit one message over SMTP and print the final reply.

Usage: smtp_send.py PORT FROM RCPT[,RCPT...] < message

The message (LF or CRLF) goes as DATA after MAIL FROM and one RCPT per
recipient (pipelined by smtplib where it can). Prints one line, "CODE
TEXT", of the reply that decided the message: the end-of-data reply, or
the first refusal of MAIL, a RCPT or DATA. Exit 0 unless the connection
failed.
"""
import smtplib
import sys


def main():
    port, sender, rcpts = int(sys.argv[1]), sys.argv[2], sys.argv[3].split(",")
    data = sys.stdin.buffer.read().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    s = smtplib.SMTP("127.0.0.1", port, timeout=120)
    s.ehlo("client.example")
    code, msg = s.mail(sender)
    if code // 100 == 2:
        for r in rcpts:
            c, m = s.rcpt(r)
            if c // 100 != 2:
                code, msg = c, m
                break
    if code // 100 == 2:
        code, msg = s.data(data)
    print("%d %s" % (code, msg.decode("utf-8", "replace").replace("\n", " ")))
    try:
        s.quit()
    except smtplib.SMTPException:
        pass


if __name__ == "__main__":
    main()
