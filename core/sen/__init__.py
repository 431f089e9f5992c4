"""The SEN register: each child's SEN provision and ranked needs as schools report them
(the school census / Common Transfer File code sets), and the imports that brought them."""
