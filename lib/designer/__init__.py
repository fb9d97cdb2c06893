"""The form designer's library: drafts, checks, the impact on stored rows, publishing, history and the palette."""
