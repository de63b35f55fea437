"""User interfaces: the `meditron-rag` command line (`ui.cli`) and the Streamlit app (`ui.app`)."""
