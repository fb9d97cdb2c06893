"""The only part of lib/ that imports streamlit: widgets built from specs and shared page pieces."""
