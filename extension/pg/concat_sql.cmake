# Concatenate SQL files: cmake -DOUT=file "-DINPUTS=a;b;c" -P concat_sql.cmake
file(WRITE ${OUT}.tmp "")
foreach(f ${INPUTS})
  file(READ ${f} content)
  get_filename_component(name ${f} NAME)
  file(APPEND ${OUT}.tmp "-- ---- ${name} ----\n${content}\n")
endforeach()
file(RENAME ${OUT}.tmp ${OUT})
