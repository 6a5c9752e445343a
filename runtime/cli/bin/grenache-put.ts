#!/usr/bin/env node
import { main } from '../process.js'

main('put')
