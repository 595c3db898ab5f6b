# The same frequency table with R's tidytext: read, unnest_tokens (lower-cased words),
# alphabetic words of 3+ letters, tidytext's stop words removed, count.
suppressPackageStartupMessages({library(dplyr); library(tidytext); library(readr)})
args <- commandArgs(trailingOnly = TRUE)
files <- sort(list.files(args[1], pattern = "\\.txt$", full.names = TRUE))
docs <- tibble(doc = basename(files), text = vapply(files, read_file, character(1), USE.NAMES = FALSE))
counts <- docs %>% unnest_tokens(word, text) %>%
  filter(nchar(word) >= 3, grepl("^[a-z]+$", word)) %>%
  anti_join(stop_words, by = "word") %>% count(word, sort = TRUE)
cat(nrow(counts), "\n")
