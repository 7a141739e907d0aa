"""Readers and writers that translate files and standards (course files, xAPI, OneRoster...)
to and from domain objects. They do I/O; the domain does not.
"""
