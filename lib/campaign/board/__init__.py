"""The live status boards: figures per city and form, late lists, detail tables, each viewer's scope."""
