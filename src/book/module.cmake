# src/book: the order book and matching engine (issue 5).
target_sources(stampede PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/book_api.c
  ${CMAKE_CURRENT_LIST_DIR}/book.c
  ${CMAKE_CURRENT_LIST_DIR}/book_ref.c
  ${CMAKE_CURRENT_LIST_DIR}/book_w1.c)
