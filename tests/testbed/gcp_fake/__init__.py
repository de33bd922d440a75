# -*- coding: utf-8 -*-
"""A stateful fake of the Google Cloud APIs the collection uses. Test infrastructure only: a test double."""
