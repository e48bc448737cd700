"""NRN library service: curated resources, the record of answered questions, the clearinghouse and search."""
