"""Newsdesk: a REST content API for news articles and their sourced claims."""
