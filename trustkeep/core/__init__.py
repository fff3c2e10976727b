"""The pure core: data model, rules, formats. No I/O, no clock, no front-end imports."""
