//! Issue 2's figures (placeholder, filled below).
