"""Sphinx's settings for the site that tools/site/build_site.py builds (make site)."""

project = "Deep learning in Python, hands on"
html_title = project
author = "the tutorial's authors"
language = "en"
extensions = ["myst_nb"]  # myst-parser for the Markdown pages, myst-nb for the chapters' notebooks
nb_execution_mode = "off"  # build_site.py ran them, and caches the runs
nb_merge_streams = True  # a cell's printed lines as one block, as Jupyter shows them
myst_heading_anchors = 4  # the README's links to its own headings (#which-backend), as on GitHub
myst_enable_extensions = ["colon_fence"]
exclude_patterns = ["*/downloads/*"]  # the notebooks offered for download are not pages
html_theme = "sphinx_book_theme"
html_theme_options = {"show_toc_level": 2, "home_page_in_toc": True}
html_show_sourcelink = False
html_copy_source = False
html_static_path = ["static"]
html_css_files = ["site.css"]
