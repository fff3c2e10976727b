#!/bin/sh
echo "acme installer 1.0"
