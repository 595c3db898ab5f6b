"""thesis"""
