"""A job's input: everything a user gives for a job, checked and bounded before it is stored.

    limits.py    the documented maximum of every value, and why each is that
    text.py      strings that reach the OS or the database; ids, queue names, tags
    fields.py    one check per field of a job (command, timeout, run_at, tags, ...)
    parse.py     a job spec (JSON object or keywords) or a file of them -> ``NewJob``
    stored.py    a stored job read back from an export, before it is imported
    newjob.py    ``NewJob`` (a checked job) and ``Enqueued`` (what a bulk enqueue did)

Every refusal is an ``InvalidInput`` naming the field, worded as one line. Nothing here
touches a database. This file imports nothing: the storage imports ``jobspec.newjob`` on
every ``queuectl enqueue``, and must not pay for the checks' modules with it.
"""
