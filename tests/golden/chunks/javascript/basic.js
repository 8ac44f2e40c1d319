import React, { useState as useLocalState } from "react";
import * as path from "./util/path";
import config from "../config.js";
const { readFile, writeFile: write } = require("./fs");

export { Button as DefaultButton } from "./components";
export * from "./theme";

export const VERSION = "1.2.0";

/** Join and normalise. */
export function join(a, b) {
  return path.normalize(`${a}/${b}`);
}

const debounce = (fn, ms) => {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
};

export default class Store {
  constructor(name) {
    this.name = name;
    this.items = [];
  }

  add(item) {
    this.items.push(item);
  }
}
